# The populator as a container image, for Cloud Run Jobs and Kubernetes (README, "Many seasons in parallel").
#
#   docker build -t f1db .
#   docker run --rm -e DATABASE_URL=postgresql://... f1db --year 2023 --max-events 0
#
# No secret is ever baked in: database and F1 account settings arrive as environment
# variables at run time (Secret Manager / Kubernetes Secrets), and .dockerignore keeps
# .env files, databases, caches and logs out of the build context.

# 3.11: the oldest Python every pinned requirement supports (numpy 2.4, filelock 4.2).
FROM python:3.11-slim

# Unbuffered: log lines reach Cloud Logging / `kubectl logs` as they are written, even if
# the task is killed. No bytecode files: the code folder is read-only for the runtime user.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A numeric, unprivileged user: Kubernetes' runAsNonRoot can only verify a numeric UID.
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin f1db

WORKDIR /app

# Dependencies first, in their own layer: a code change does not reinstall them. Every
# pinned package, but not requirements.txt's last line (`-e .`, the project installed in
# place): the scripts import the library from their own folder, /app/backend.
COPY requirements.txt .
RUN sed '/^-e /d' requirements.txt | pip install --no-cache-dir -r /dev/stdin

# The code, owned by root and read-only for the runtime user (tests, benchmarks and
# local files are left out by .dockerignore).
COPY backend/ /app/backend/
WORKDIR /app/backend

# Each task's own FastF1 cache (and the request budget kept beside it): /tmp is writable
# by the runtime user; the manifests mount a volume there (deploy/).
ENV FASTF1_CACHE_DIR=/tmp/fastf1_cache

USER 10001:10001

# In a container the console is the log (Cloud Logging, `kubectl logs`), so no log file:
# the default one would be written into the read-only code folder. A later --log-file
# in the arguments still wins. The schema migration runs the same image with the
# command `python migrate_db.py` (deploy/cloud-run-migrate-job.yaml, k8s-migrate-job.yaml).
ENTRYPOINT ["python", "populate_db.py", "--log-file="]
CMD ["--help"]

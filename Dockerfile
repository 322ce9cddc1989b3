# syntax=docker/dockerfile:1
# Build stage: resolve and install the pinned dependencies into a virtualenv.
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.txt .
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-compile -r requirements.txt

# Runtime stage: no build tools, non-root, only the app.
FROM python:3.11.14-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GUNICORN_BIND=0.0.0.0:3000
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY app/ app/
COPY wsgi.py gunicorn.conf.py ./
USER 10001:10001
EXPOSE 3000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]

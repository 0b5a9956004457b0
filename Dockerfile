# One image for every project process: `kedro run` (pipeline), `medallion-api`, `medallion-ui`.
# docker compose picks the command per service; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KEDRO_DISABLE_TELEMETRY=1 \
    DO_NOT_TRACK=1 \
    GRADIO_ANALYTICS_ENABLED=False

WORKDIR /app

# Dependencies and code first (cached until they change), then configuration.
COPY pyproject.toml README.md ./
COPY src ./src
COPY graphql_api ./graphql_api
COPY ui ./ui
COPY medallion_dev ./medallion_dev
RUN pip install .

COPY conf ./conf
RUN useradd --create-home --uid 1000 medallion \
    && mkdir -p data conf/local \
    && chown -R medallion:medallion /app
USER medallion

EXPOSE 8000 7860
CMD ["kedro", "run", "--env", "minio"]

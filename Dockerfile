# vnet-audit in a container: `docker run --rm -v "$PWD/report:/home/vnetaudit/report" vnet-audit scan --demo`.
# Dependencies are pinned by constraints.txt (`make constraints` regenerates it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY auditor ./auditor
COPY rules ./rules
COPY reports ./reports
RUN pip install --constraint constraints.txt . \
    && rm -rf /src

RUN groupadd --gid 10001 vnetaudit \
    && useradd --create-home --uid 10001 --gid 10001 vnetaudit
USER 10001:10001
WORKDIR /home/vnetaudit

ENTRYPOINT ["vnet-audit"]
CMD ["--help"]

# The HSCT2 Explorer for a hospital network: patient data stay on your own machine.
#   docker compose up          (or: docker build -t hsct2 . && docker run -p 127.0.0.1:8501:8501 hsct2)
# then open http://localhost:8501.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HSCT2_CHROMIUM=/usr/bin/chromium

# Chromium and Arial-metric fonts for the server-side PNG/SVG export (the same list Streamlit Community Cloud reads).
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
    && xargs -a /tmp/packages.txt apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/packages.txt

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY dashboard.py pyproject.toml ./
COPY .streamlit/config.toml .streamlit/config.toml
COPY pages pages
COPY ui ui
COPY analysis analysis
COPY data data

RUN useradd --create-home --uid 1000 explorer
USER explorer
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "dashboard.py", "--server.address=0.0.0.0", "--server.port=8501", \
     "--server.headless=true", "--browser.gatherUsageStats=false"]

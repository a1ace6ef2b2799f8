# The Rongxie app image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 RONGXIE_ENV=production
WORKDIR /app
COPY pyproject.toml constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt \
      "django>=5.2,<5.3" djangorestframework django-filter "psycopg[binary]" "celery[redis]" redis \
      openpyxl python-calamine defusedxml python-stdnum dj-database-url drf-spectacular \
      drf-spectacular-sidecar django-htmx whitenoise gunicorn faker
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0
RUN useradd --create-home rongxie && mkdir -p /app/var && chown -R rongxie /app/var
USER rongxie
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]

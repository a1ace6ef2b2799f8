import logging
import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import kinds
from .choices import TERMINAL_STATES, JobStatus
from .i18n import in_every_language, localized
from .querysets import RestrictedManager

logger = logging.getLogger("core.jobs")


class Job(models.Model):
    """One run of a long task (import, list rebuild, allocation, export) and its progress."""

    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    region = models.ForeignKey(
        "enterprises.Region",
        verbose_name=_("region"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last report"), null=True, blank=True)
    progress_done = models.BigIntegerField(_("done"), default=0)
    progress_total = models.BigIntegerField(_("total"), null=True, blank=True)
    step = models.CharField(_("current step"), max_length=200, blank=True)
    # The step in every language of the site (core/i18n.py); ``step`` is the default's.
    step_translations = models.JSONField(_("current step, translated"), default=dict, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    result_url = models.CharField(_("result link"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)
    # For administrators only: what the job logged, and the traceback of an internal error
    # (it can hold SQL and data, so other users read only ``error``).
    log = models.TextField(_("log"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    rerun_of = models.ForeignKey(
        "self",
        verbose_name=_("re-run of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            # fail_stale_jobs: WHERE status = 'running' AND heartbeat_at < cutoff.
            models.Index(
                fields=["heartbeat_at"],
                name="job_running_heartbeat_idx",
                condition=Q(status="running"),
            ),
            models.Index(fields=["-created_at"], name="job_created_idx"),
        ]

    def __str__(self):
        return f"{self.kind_label} #{self.pk}"

    @classmethod
    def scope_q(cls, scope):
        q = Q(created_by_id=scope.user_id)
        if scope.region_prefix is not None:
            q |= Q(region__code__startswith=scope.region_prefix)
        return q

    @property
    def kind_label(self):
        return kinds.kind_label(self.kind)

    @property
    def is_finished(self):
        return self.status in TERMINAL_STATES

    @property
    def can_rerun(self):
        """Whether "Run again" is offered (the app owning the kind may say it cannot help)."""
        from .panels import can_rerun

        return self.is_finished and can_rerun(self)

    @property
    def labelled_counts(self):
        return kinds.labelled_counts(self.kind, self.counts)

    @property
    def percent(self):
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    # Progress is written with UPDATE (not save) so a handler never overwrites fields another
    # process changed, and at most every half second so reporting never slows the work.
    _last_report = 0.0

    def set_step(self, step):
        """Name the current step (a lazy text, so it is kept in every language)."""
        translations = in_every_language(step, max_length=200)
        text = translations.get(settings.LANGUAGE_CODE) or str(step)[:200]
        if text != self.step:
            logger.info("job %s: %s", self.pk, text)  # each new step is a line of the log
        self.step, self.step_translations = text, translations

    @property
    def step_text(self):
        """The current step in the reader's language."""
        return localized(self.step, self.step_translations)

    def report(self, done=None, total=None, step=None, counts=None, force=False):
        """Record progress; cheap to call often (writes at most twice a second)."""
        if done is not None:
            self.progress_done = done
        if total is not None:
            self.progress_total = total
        if step is not None:
            self.set_step(step)
        if counts:
            self.counts = {**self.counts, **counts}
        now = time.monotonic()
        if not force and now - self._last_report < 0.5:
            return
        self._last_report = now
        self.heartbeat_at = timezone.now()
        Job.objects.filter(pk=self.pk).update(
            progress_done=self.progress_done,
            progress_total=self.progress_total,
            step=self.step,
            step_translations=self.step_translations,
            counts=self.counts,
            heartbeat_at=self.heartbeat_at,
        )


class OfficialDay(models.Model):
    """A day the official calendar treats unlike an ordinary Monday–Friday week.

    A public holiday (法定节假日, not a working day) or a weekend day made a working day to make
    up for one (调休). Seeded from the chinese-calendar package after each migrate; admins add
    the days of years the package does not know yet (the State Council publishes them each
    November).
    """

    day = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("official calendar day")
        verbose_name_plural = _("official calendar days")
        ordering = ["day"]

    def __str__(self):
        return f"{self.day} {self.name}"


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header (core/api/idempotency.py):
    a retry with the same key and body gets this answer again instead of writing twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # idempotency_key_unique leads with it
    )
    key = models.CharField(_("key"), max_length=200)
    request_hash = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        ordering = ["-created_at"]
        constraints = [
            # The look-up of a retried request, and what makes two concurrent ones safe.
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self):
        return self.key

"""The import kind registry: what a kind is made of, and ``SPECS`` (kind → spec).

This module imports nothing of the apps. Each app declares the kinds of the tables it owns in
its ``imports.py`` (enterprises: register, census, tax, negative lists; loans: credit and loan
ledger; banks: the bank directory) and registers them from ``AppConfig.ready``. The engine
(pipeline.py) reads, normalises, stages, checks, upserts and reports every kind the same way;
a spec says only what differs: columns and aliases, key, target table, compared fields,
reference checks, and hooks where the SQL really differs (see shared/spec/import-formats.md).
"""

from dataclasses import dataclass, field

from . import normalise as n


@dataclass(frozen=True)
class Column:
    field: str  # staging column name
    cn: str  # canonical Chinese header
    alias: str
    required: bool
    convert: object
    sql_type: str = "text"  # text | date | numeric | integer | boolean
    amount: bool = False  # a 万元 amount: a header saying 元 divides by 10000

    def header_variants(self):
        """Normalised header → converter for this column."""
        variants = {n.normalise_header(self.cn): self.convert, self.alias.lower(): self.convert}
        if self.amount:
            base = n.normalise_header(self.cn).replace("(万元)", "")
            variants[base] = self.convert
            variants[base + "(元)"] = n.to_yuan_amount
            variants[self.alias.lower() + "_yuan"] = n.to_yuan_amount
        return variants


@dataclass(frozen=True)
class Reference:
    """A column naming a row of another table (by primary key), checked when rows are read."""

    field: str
    model: str  # "app_label.Model"
    reason: object  # the row error's reason when the value is unknown


@dataclass(frozen=True)
class Upsert:
    """Where a kind's staged rows go: INSERT … ON CONFLICT (conflict) DO UPDATE when changed.

    ``columns``: (target column, SQL expression over the staged row ``s``); ``compare``: the
    target columns compared and updated always; ``compare_present``: (target column, staged
    field) compared only when the file has that column (a missing column changes nothing).
    """

    model: str  # "app_label.Model"
    conflict: tuple
    columns: tuple
    compare: tuple = ()
    compare_present: tuple = ()


def _no_row_check(run, values):
    return ()


def _nothing(run):
    return None


@dataclass
class KindSpec:
    """One import kind. Hooks take the engine's run (pipeline._Run) as first argument."""

    kind: str
    columns: list
    key: tuple  # staging fields forming the kind's key (duplicate check)
    upsert: Upsert | None = None
    references: tuple = ()
    # Rows name an enterprise by USCC: the engine resolves it (enterprise_id) and checks that
    # it is registered and inside the uploader's region.
    refers_to_enterprise: bool = True
    row_check: object = _no_row_check  # (run, values) → [(field, reason, value)], per row
    sql_check: object = None  # (run, errors): row_check in SQL, for the fast path (sqlpath.py)
    resolve: object = _nothing  # (run): set-based checks over the staged rows
    apply: object = None  # (run) → (created, updated); default: the upsert
    after_apply: object = _nothing  # (run): what the upsert cannot say (links, through tables)
    touched_regions: object = None  # (run) → region codes; default: the enterprises' regions
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        for column in self.columns:
            for header, convert in column.header_variants().items():
                self.headers.setdefault(header, (column, convert))

    @property
    def required(self):
        return [c for c in self.columns if c.required]


SPECS = {}  # kind → KindSpec, filled by register() from the apps' ready()


def register(spec):
    """Register ``spec`` under its kind (called once per kind at start-up)."""
    SPECS[spec.kind] = spec
    return spec


USCC = Column("uscc", "统一社会信用代码", "uscc", True, n.to_uscc)
BANK_CODE = Column("bank_code", "银行机构代码", "bank_code", True, n.max_length(40))

"""Imports every table module so the metadata (Alembic, create_all) sees them all."""

from hpf.audit import models as audit_models  # noqa: F401
from hpf.catalog import models as catalog_models  # noqa: F401
from hpf.deposits import models as deposits_models  # noqa: F401
from hpf.exchange import (
    housing_models,  # noqa: F401
    people_models,  # noqa: F401
)
from hpf.exchange import models as exchange_models  # noqa: F401
from hpf.gateway import models as gateway_models  # noqa: F401
from hpf.identity import cert_models as certificate_models  # noqa: F401
from hpf.identity import models as identity_models  # noqa: F401
from hpf.identity import security_models  # noqa: F401
from hpf.jobs import models as jobs_models  # noqa: F401
from hpf.kit.db import Base
from hpf.ledger import models as ledger_models  # noqa: F401
from hpf.materials import models as materials_models  # noqa: F401
from hpf.notices import models as notices_models  # noqa: F401
from hpf.publishing import models as publishing_models  # noqa: F401
from hpf.risk import models as risk_models  # noqa: F401
from hpf.withdrawals import models as withdrawals_models  # noqa: F401

metadata = Base.metadata

"""Staff sign-in for tests: the current TOTP code of a staff member, as their app shows it.

The server accepts the code of the current step and of one step either side, each once; the
helper takes the earliest of those not yet used, so a test can sign one person in up to three
times within thirty seconds.
"""

from sqlalchemy.orm import Session, sessionmaker

from hpf.identity import repository, totp
from hpf.identity import service as identity
from hpf.kit import clock


def totp_code(factory: sessionmaker[Session], login_name: str) -> str:
    """A code the next staff login of `login_name` will accept."""
    with factory() as session:
        secret = identity.staff_totp_secret(session, login_name)
        user = repository.user_by_login(session, "staff", login_name)
        if secret is None or user is None:
            return "000000"  # not enrolled or unknown: the server says which
        now_s = clock.now().timestamp()
        step = int(now_s) // totp.STEP_S
        if user.totp_last_step is not None and user.totp_last_step >= step - 1:
            step = user.totp_last_step + 1
        return totp.code_at(secret, step * totp.STEP_S)

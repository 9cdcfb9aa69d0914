"""Backend services of the catalogue that run as batch jobs (`hpf jobs run NAME`), not calls."""

BACKEND_JOBS = {"dep.interest_settle": "interest-settlement", "push.balance": "balance-notices"}

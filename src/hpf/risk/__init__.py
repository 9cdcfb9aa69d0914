"""Operation and fund risk (业务与资金风险): signals, rules, alerts and holds."""

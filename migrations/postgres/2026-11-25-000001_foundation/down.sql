DROP TABLE idempotency_keys;
DROP TABLE refresh_tokens;
DROP TABLE clients;
DROP TABLE accounts;
DROP TABLE departments;

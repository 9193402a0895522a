# Without TLS a password is never accepted: the refusal names STLS
S: +OK inetkit POP3 server ready
C: USER alice
S: -ERR [AUTH] Plaintext authentication is disallowed on non-secure connections; send STLS first
C: PASS {password}
S: -ERR [AUTH] Plaintext authentication is disallowed on non-secure connections; send STLS first
C: AUTH PLAIN AGFsaWNlAGNvcnJlY3QtaG9yc2UtMQ==
S: -ERR [AUTH] Plaintext authentication is disallowed on non-secure connections; send STLS first
C: QUIT
S: +OK inetkit POP3 server signing off

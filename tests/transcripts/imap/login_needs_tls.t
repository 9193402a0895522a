# LOGIN and AUTHENTICATE before STARTTLS are refused (LOGINDISABLED)
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN alice {password}
S: a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections; use STARTTLS first
C: a2 AUTHENTICATE PLAIN AGFsaWNlAGNvcnJlY3QtaG9yc2UtMQ==
S: a2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections; use STARTTLS first
C: a3 LOGOUT
S: * BYE Logging out
S: a3 OK Logout completed.

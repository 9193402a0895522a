# Error replies close the session at max_errors
@config max_errors = 2
S: +OK inetkit POP3 server ready
C: FOO
S: -ERR Unknown command
C: BAR
S: -ERR Unknown command
S: -ERR Too many errors; closing
= closed

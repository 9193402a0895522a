# Commands before login are limited
@config max_commands_before_login = 3
S: +OK inetkit POP3 server ready
C: NOOP
S: -ERR NOOP needs a login first: USER and PASS, or AUTH
C: CAPA now
S: -ERR Syntax: CAPA
C: FOO
S: -ERR Unknown command
C: BAR
S: -ERR Too many commands before login; closing
= closed

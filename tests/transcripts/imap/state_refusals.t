# Commands in the wrong state, unknown commands, bad tags, empty lines
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 SELECT INBOX
S: a1 BAD SELECT: log in first
C: a2 FROB
S: a2 BAD Unknown command FROB
C: 
S: * BAD Empty command line
C: a3
S: a3 BAD Missing command
C: +a NOOP
S: * BAD Invalid tag
C: a4 LOGIN alice {password}
S: a4 OK [CAPABILITY {*}] Logged in
C: a5 FETCH 1 FLAGS
S: a5 BAD FETCH: no mailbox selected
C: a6 EXPUNGE
S: a6 BAD EXPUNGE: no mailbox selected
C: a7 SELECT
S: a7 BAD Syntax: SELECT mailbox
C: a8 NOOP now
S: a8 BAD Syntax: NOOP

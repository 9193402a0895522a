# Synchronizing and non-synchronizing literals; sizes checked first
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN {9000}
S: a1 NO [TOOBIG] Literal too large (the limit is 8192 bytes)
C: a2 LOGIN {5}
S: + OK
C: alice {15+}
C: correct-horse-1
S: a2 OK [CAPABILITY {*}] Logged in
C: a3 APPEND INBOX {4294967295}
S: a3 NO [TOOBIG] Literal too large (the limit is 52428800 bytes)
C: a4 APPEND INBOX {4294967296}
S: a4 BAD Invalid literal size
C: a5 SELECT "INBOX
S: a5 BAD Missing '"'
C: a6 SELECT (INBOX
S: a6 BAD Missing ')'

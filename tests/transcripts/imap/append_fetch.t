# APPEND with a literal, then FETCH, STORE, SEARCH, EXPUNGE
@user appender
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN appender {password}
S: a1 OK [CAPABILITY {*}] Logged in
C: a2 APPEND INBOX (\Seen) "05-Dec-2026 10:00:00 +0000" {41}
S: + OK
C: Subject: hello
C: From: a@example.org
C: 
C: hi
S: a2 OK [APPENDUID {n} 1] Append completed.
C: a3 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 1 EXISTS
S: * 0 RECENT
S: * OK [UIDVALIDITY {n}] UIDs valid
S: * OK [UIDNEXT 2] Predicted next UID
S: * OK [HIGHESTMODSEQ {n}] Highest
S: a3 OK [READ-WRITE] Select completed.
C: a4 FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE)
S: * 1 FETCH (UID 1 FLAGS (\Seen) INTERNALDATE "05-Dec-2026 10:00:00 +0000" RFC822.SIZE 41)
S: a4 OK Fetch completed.
C: a5 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])
S: * 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}
S: Subject: hello
S: 
S: )
S: a5 OK Fetch completed.
C: a6 STORE 1 +FLAGS (\Deleted)
S: * 1 FETCH (FLAGS (\Seen \Deleted))
S: a6 OK Store completed.
C: a7 SEARCH DELETED SUBJECT hello
S: * SEARCH 1
S: a7 OK Search completed.
C: a8 FETCH 2 FLAGS
S: a8 BAD Invalid sequence number (the mailbox holds 1 messages)
C: a9 EXPUNGE
S: * 1 EXPUNGE
S: a9 OK Expunge completed.
C: b1 SEARCH ALL
S: * SEARCH
S: b1 OK Search completed.

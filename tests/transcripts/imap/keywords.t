# Keywords: made by STORE, announced in FLAGS and PERMANENTFLAGS (\* while
# the folder can name more), searched by KEYWORD, removed by -FLAGS
@user keyworder
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN keyworder {password}
S: a1 OK [CAPABILITY {*}] Logged in
C: a2 APPEND INBOX (\Seen $Important) {12}
S: + OK
C: Subject: k
C: 
S: a2 OK [APPENDUID {n} 1] Append completed.
C: a3 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Important)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Important \*)] Flags permitted.
S: * 1 EXISTS
S: * 0 RECENT
S: * OK [UIDVALIDITY {n}] UIDs valid
S: * OK [UIDNEXT 2] Predicted next UID
S: * OK [HIGHESTMODSEQ {n}] Highest
S: a3 OK [READ-WRITE] Select completed.
C: a4 FETCH 1 FLAGS
S: * 1 FETCH (FLAGS (\Seen $Important))
S: a4 OK Fetch completed.
C: a5 STORE 1 +FLAGS (Project)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Important Project)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Important Project \*)] Flags permitted.
S: * 1 FETCH (FLAGS (\Seen $Important Project))
S: a5 OK Store completed.
C: a6 SEARCH KEYWORD project UNKEYWORD $Junk
S: * SEARCH 1
S: a6 OK Search completed.
C: a7 STORE 1 -FLAGS ($Important)
S: * 1 FETCH (FLAGS (\Seen Project))
S: a7 OK Store completed.
C: a8 STORE 1 +FLAGS (\Recent)
S: a8 BAD Invalid flag

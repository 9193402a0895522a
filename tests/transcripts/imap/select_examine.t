# SELECT and EXAMINE of an empty folder, a missing one, CLOSE, UNSELECT
@user selma
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN selma {password}
S: a1 OK [CAPABILITY {*}] Logged in
C: a2 SELECT Sent
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 0 EXISTS
S: * 0 RECENT
S: * OK [UIDVALIDITY {n}] UIDs valid
S: * OK [UIDNEXT 1] Predicted next UID
S: * OK [HIGHESTMODSEQ 1] Highest
S: a2 OK [READ-WRITE] Select completed.
C: a3 CLOSE
S: a3 OK Close completed.
C: a4 EXAMINE Trash
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS ()] Read-only mailbox.
S: * 0 EXISTS
S: * 0 RECENT
S: * OK [UIDVALIDITY {n}] UIDs valid
S: * OK [UIDNEXT 1] Predicted next UID
S: * OK [HIGHESTMODSEQ 1] Highest
S: a4 OK [READ-ONLY] Examine completed.
C: a5 UNSELECT
S: a5 OK Unselect completed.
C: a6 SELECT Nope
S: a6 NO [NONEXISTENT] Mailbox doesn't exist: Nope

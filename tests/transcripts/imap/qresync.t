# QRESYNC (RFC 7162): ENABLE, expunges as VANISHED, SELECT with the
# client's state (a stale UIDVALIDITY: a plain SELECT), UID FETCH with
# VANISHED; a refused SELECT leaves the mailbox selected
@user resyncer
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN resyncer {password}
S: a1 OK [CAPABILITY {*}] Logged in
C: a2 ENABLE QRESYNC
S: * ENABLED QRESYNC
S: a2 OK Enabled.
C: a3 APPEND INBOX {8+}
C: Subject:
S: a3 OK [APPENDUID {n} 1] Append completed.
C: a4 APPEND INBOX {8+}
C: Subject:
S: a4 OK [APPENDUID {n} 2] Append completed.
C: a5 APPEND INBOX {8+}
C: Subject:
S: a5 OK [APPENDUID {n} 3] Append completed.
C: a6 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 3 EXISTS
S: * 0 RECENT
S: * OK [UNSEEN 1] First unseen.
S: * OK [UIDVALIDITY {n}] UIDs valid
S: * OK [UIDNEXT 4] Predicted next UID
S: * OK [HIGHESTMODSEQ 3] Highest
S: a6 OK [READ-WRITE] Select completed.
C: a7 STORE 2 +FLAGS.SILENT (\Deleted)
S: a7 OK Store completed.
C: a8 EXPUNGE
S: * VANISHED 2
S: a8 OK Expunge completed.
C: a9 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 3 VANISHED)
S: * VANISHED (EARLIER) 2
S: a9 OK Fetch completed.
C: b1 STORE 1 +FLAGS (\Seen)
S: * 1 FETCH (FLAGS (\Seen) MODSEQ (6))
S: b1 OK Store completed.
C: b2 SELECT INBOX (QRESYNC (1 3 1:3))
S: * OK [CLOSED] Previous mailbox closed.
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 2 EXISTS
S: * 0 RECENT
S: * OK [UNSEEN 2] First unseen.
S: * OK [UIDVALIDITY {n}] UIDs valid
S: * OK [UIDNEXT 4] Predicted next UID
S: * OK [HIGHESTMODSEQ 6] Highest
S: b2 OK [READ-WRITE] Select completed.
C: b3 SELECT INBOX (QRESYNC (1))
S: b3 BAD Syntax: QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])

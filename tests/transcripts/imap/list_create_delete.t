# LIST with special-use attributes, CREATE, RENAME, DELETE, STATUS
@user lister
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN lister {password}
S: a1 OK [CAPABILITY {*}] Logged in
C: a2 LIST "" *
S: * LIST (\HasNoChildren) "." "INBOX"
S: * LIST (\HasNoChildren \Archive) "." "Archive"
S: * LIST (\HasNoChildren \Drafts) "." "Drafts"
S: * LIST (\HasNoChildren \Junk) "." "Junk"
S: * LIST (\HasNoChildren \Sent) "." "Sent"
S: * LIST (\HasNoChildren \Trash) "." "Trash"
S: a2 OK List completed.
C: a3 CREATE Projects.2026
S: a3 OK Create completed.
C: a4 CREATE Projects
S: a4 OK Create completed.
C: a5 LIST "" Proj*
S: * LIST (\HasChildren) "." "Projects"
S: * LIST (\HasNoChildren) "." "Projects.2026"
S: a5 OK List completed.
C: a6 RENAME Projects.2026 Projects.Old
S: a6 OK Rename completed.
C: a7 DELETE Projects.Old
S: a7 OK Delete completed.
C: a8 DELETE Projects.Old
S: a8 NO [NONEXISTENT] Mailbox doesn't exist: Projects.Old
C: a9 CREATE INBOX
S: a9 NO INBOX cannot be created: it exists
C: b1 STATUS Projects (MESSAGES RECENT UIDNEXT UNSEEN)
S: * STATUS Projects (MESSAGES 0 RECENT 0 UIDNEXT 1 UNSEEN 0)
S: b1 OK Status completed.
C: b2 STATUS Projects (FOO)
S: b2 BAD Unknown STATUS item

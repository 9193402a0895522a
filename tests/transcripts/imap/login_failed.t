# A wrong password over implicit TLS; three failures end the session
@port tls
= tls
S: * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN SPECIAL-USE ESEARCH CONDSTORE QRESYNC UTF8=ACCEPT STATUS=SIZE AUTH=PLAIN] inetkit IMAP ready.
C: a1 LOGIN alice wrong-password
S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.
C: a2 LOGIN nobody-here wrong-password
S: a2 NO [AUTHENTICATIONFAILED] Authentication failed.
C: a3 LOGIN alice wrong-password
S: * BYE Too many failed logins.
= closed

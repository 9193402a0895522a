# IDLE ends with DONE; anything else is BAD
@port tls
= tls
S: * OK [CAPABILITY {*}] inetkit IMAP ready.
C: a1 LOGIN bob {password}
S: a1 OK [CAPABILITY {*}] Logged in
C: a2 IDLE
S: + idling
C: DONE
S: a2 OK Idle completed.
C: a3 IDLE
S: + idling
C: a4 NOOP
S: a3 BAD Expected DONE.
C: a5 ID NIL
S: * ID ("name" "inetkit" "vendor" "inetkit")
S: a5 OK ID completed.
C: a6 ENABLE CONDSTORE
S: * ENABLED CONDSTORE
S: a6 OK Enabled.
C: a7 NAMESPACE
S: * NAMESPACE (("" ".")) NIL NIL
S: a7 OK Namespace completed.

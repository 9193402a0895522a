# EXPN, TURN, ETRN: known, not implemented
S: 220 mx.example.test ESMTP inetkit
C: EXPN staff
S: 502 5.5.1 Error: EXPN is not implemented
C: TURN
S: 502 5.5.1 Error: TURN is not implemented
C: ETRN example.org
S: 502 5.5.1 Error: ETRN is not implemented
C: QUIT
S: 221 2.0.0 Bye

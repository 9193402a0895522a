# MAIL, RCPT and DATA before EHLO/HELO
S: 220 mx.example.test ESMTP inetkit
C: MAIL FROM:<a@example.org>
S: 503 5.5.1 Error: send EHLO first
C: RCPT TO:<alice@localhost>
S: 503 5.5.1 Error: send EHLO first
C: DATA
S: 503 5.5.1 Error: send EHLO first
C: HELO client.example
S: 250 mx.example.test
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 Ok
C: QUIT
S: 221 2.0.0 Bye

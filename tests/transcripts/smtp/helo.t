# HELO: plain SMTP, no extensions
S: 220 mx.example.test ESMTP inetkit
C: HELO client.example
S: 250 mx.example.test
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 Ok
C: RCPT TO:<alice@localhost>
S: 250 2.1.5 Ok
C: RSET
S: 250 2.0.0 Ok
C: QUIT
S: 221 2.0.0 Bye

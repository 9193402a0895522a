# postmaster always exists, with or without a domain
S: 220 mx.example.test ESMTP inetkit
C: EHLO client.example
S: 250-mx.example.test Hello client.example
S: 250-PIPELINING
S: 250-SIZE 26214400
S: 250-STARTTLS
S: 250-ENHANCEDSTATUSCODES
S: 250-8BITMIME
S: 250-DSN
S: 250-SMTPUTF8
S: 250 CHUNKING
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 Ok
C: RCPT TO:<postmaster@localhost>
S: 250 2.1.5 Ok
C: RCPT TO:<Postmaster>
S: 250 2.1.5 Ok
C: RCPT TO:<POSTMASTER@example.test>
S: 250 2.1.5 Ok
C: QUIT
S: 221 2.0.0 Bye

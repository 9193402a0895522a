# DATA when every RCPT was refused
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
C: RCPT TO:<nosuchuser@localhost>
S: 550 5.1.1 <nosuchuser@localhost>: Recipient address rejected: no such user in domain localhost
C: DATA
S: 554 5.5.1 Error: no valid recipients
C: QUIT
S: 221 2.0.0 Bye

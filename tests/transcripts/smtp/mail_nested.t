# A second MAIL inside a transaction
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
C: MAIL FROM:<b@example.org>
S: 503 5.5.1 Error: nested MAIL command; send RSET to start again
C: RSET
S: 250 2.0.0 Ok
C: MAIL FROM:<b@example.org>
S: 250 2.1.0 Ok
C: QUIT
S: 221 2.0.0 Bye

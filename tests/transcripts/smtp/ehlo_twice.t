# EHLO again is allowed and resets nothing but the transaction
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
C: EHLO other.example
S: 250-mx.example.test Hello other.example
S: 250-PIPELINING
S: 250-SIZE 26214400
S: 250-STARTTLS
S: 250-ENHANCEDSTATUSCODES
S: 250-8BITMIME
S: 250-DSN
S: 250-SMTPUTF8
S: 250 CHUNKING
C: RCPT TO:<alice@localhost>
S: 503 5.5.1 Error: need MAIL before RCPT
C: QUIT
S: 221 2.0.0 Bye

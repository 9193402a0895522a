# Submission: MAIL needs AUTH
@port submission
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
C: STARTTLS
S: 220 2.0.0 Ready to start TLS
= tls
C: EHLO client.example
S: 250-mx.example.test Hello client.example
S: 250-PIPELINING
S: 250-SIZE 26214400
S: 250-AUTH PLAIN LOGIN
S: 250-ENHANCEDSTATUSCODES
S: 250-8BITMIME
S: 250-DSN
S: 250-SMTPUTF8
S: 250 CHUNKING
C: MAIL FROM:<alice@localhost>
S: 530 5.7.0 Authentication required
C: AUTH PLAIN AGFsaWNlAGNvcnJlY3QtaG9yc2UtMQ==
S: 235 2.7.0 Authentication successful
C: MAIL FROM:<alice@localhost>
S: 250 2.1.0 Ok
C: RCPT TO:<someone@example.org>
S: 250 2.1.5 Ok
C: QUIT
S: 221 2.0.0 Bye

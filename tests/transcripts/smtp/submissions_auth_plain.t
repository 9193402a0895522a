# Implicit TLS: AUTH PLAIN with an empty challenge
@port submissions
= tls
S: 220 mx.example.test ESMTP inetkit
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
C: STARTTLS
S: 554 5.5.1 Error: TLS already active
C: AUTH PLAIN
S: 334 
C: AGFsaWNlAGNvcnJlY3QtaG9yc2UtMQ==
S: 235 2.7.0 Authentication successful
C: AUTH PLAIN AGFsaWNlAGNvcnJlY3QtaG9yc2UtMQ==
S: 503 5.5.1 Error: already authenticated
C: QUIT
S: 221 2.0.0 Bye

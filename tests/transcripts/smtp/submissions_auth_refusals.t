# AUTH: wrong password, cancel, bad base64, unknown mechanism
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
C: AUTH PLAIN AGFsaWNlAHdyb25nLXBhc3N3b3Jk
S: 535 5.7.8 Error: authentication failed
C: AUTH PLAIN
S: 334 
C: *
S: 501 5.7.0 Authentication cancelled
C: AUTH PLAIN !!!
S: 501 5.5.2 Error: the response is not valid base64: use RFC 4648 base64 with padding, no spaces or line breaks
C: AUTH CRAM-MD5
S: 504 5.5.4 Unsupported authentication mechanism; use one of: PLAIN LOGIN
C: AUTH
S: 501 5.5.4 Syntax: AUTH mechanism [initial-response]
C: QUIT
S: 221 2.0.0 Bye

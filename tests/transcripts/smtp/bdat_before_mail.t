# BDAT before MAIL: the chunk is read and refused
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
C: BDAT 6 LAST
C: NOOP
S: 503 5.5.1 Error: need MAIL before BDAT
C: NOOP
S: 250 2.0.0 Ok
C: QUIT
S: 221 2.0.0 Bye

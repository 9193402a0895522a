# max_size: offered in EHLO, checked at MAIL
@config max_size = 1k
S: 220 mx.example.test ESMTP inetkit
C: EHLO client.example
S: 250-mx.example.test Hello client.example
S: 250-PIPELINING
S: 250-SIZE 1024
S: 250-STARTTLS
S: 250-ENHANCEDSTATUSCODES
S: 250-8BITMIME
S: 250-DSN
S: 250-SMTPUTF8
S: 250 CHUNKING
C: MAIL FROM:<a@example.org> SIZE=1025
S: 552 5.3.4 Message size exceeds fixed maximum message size
C: MAIL FROM:<a@example.org> SIZE=1024
S: 250 2.1.0 Ok
C: QUIT
S: 221 2.0.0 Bye

# AUTH on the port-25 role without TLS
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
C: AUTH PLAIN AGFsaWNlAGNvcnJlY3QtaG9yc2UtMQ==
S: 538 5.7.11 Encryption required for requested authentication mechanism; send STARTTLS first
C: QUIT
S: 221 2.0.0 Bye

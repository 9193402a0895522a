# FEAT lists the extensions, one per line, each with a leading space (RFC 2389)
S: 220 {*}
C: FEAT
S: 211-Features:
S:  AUTH TLS
S:  TVFS
S:  EPRT
S:  EPSV
S:  HOST
S:  MDTM
S:  MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;
S:  UTF8
S:  PBSZ
S:  PROT
S:  REST STREAM
S:  SIZE
S: 211 End
C: OPTS UTF8 ON
S: 200 UTF8 mode is always on.
C: QUIT
S: 221 Goodbye.

; what: exit with R0 never written
; prog: socket_filter
exit

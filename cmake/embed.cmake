# Turn a file into a C source holding its bytes: cmake -DIN= -DOUT= -DNAME=
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* generated from ${IN}; do not edit */\n#include <stddef.h>\nextern const char ${NAME}[];\nextern const size_t ${NAME}_len;\nconst char ${NAME}[] = {${bytes}0x00};\nconst size_t ${NAME}_len = sizeof(${NAME}) - 1;\n")

# lz4.sed - markers at lz4's hottest per-item points (lib/lz4.c, 1.9.x):
# one site per decoded sequence (both decode loops, at the token) and one
# per encoded match.  The rest of the program is untouched.
s|^\([[:space:]]*\)length = token >> ML_BITS;  /\* literal length \*/|&\
\1REAL_SITE(lz4_token, token);|
s|^_next_match:$|&\
        REAL_SITE(lz4_match, (size_t)(ip - anchor));|

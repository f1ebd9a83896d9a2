/* The timing client of `make bench` (scripts/bench-cryptolib.sh): the same binary times cpsd (through
 * p11-kit-client.so) and Cryptolib (its module, inside scripts/cryptolib-env.sh), so both are measured alike.
 *
 *   p11-timing list MODULE
 *       A new client listing the token and reading both certificates: C_Initialize, C_GetSlotList,
 *       C_GetTokenInfo, C_OpenSession, C_FindObjects on CKO_CERTIFICATE, C_GetAttributeValue(CKA_VALUE),
 *       C_Finalize. Prints: list <ms> certs <n> bytes <total> apdus <n>
 *   p11-timing sign MODULE PIN N NAME:KEY_ID_HEX:MECH...
 *       C_Initialize, C_Login (timed apart), then N signatures per NAME (MECH: rsa-pkcs signs a SHA-256
 *       DigestInfo; sha256-rsa-pkcs a 100-byte message; rsa-pkcs-pss a SHA-256 hash, MGF1-SHA-256, sLen 32).
 *       Prints: login <ms> apdus <n>, then per NAME: sign NAME median <ms> min <ms> max <ms> apdus <per op>,
 *       then relogin <ms> apdus <n> (C_Logout, C_Login again)
 *
 * Time is CLOCK_MONOTONIC. APDUs come from the virtual card's own counter: the file named by
 * $BENCH_CARD_STATS (the `.stats` JSON of CPS_VCARD_FAULTS, "commands"), read before and after; -1 without it. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <p11-kit/pkcs11.h>

#define CHECK(call)                                                                 \
    do {                                                                            \
        CK_RV rv_ = (call);                                                         \
        if (rv_ != CKR_OK) {                                                        \
            printf("error %s 0x%lx\n", #call, (unsigned long)rv_);                  \
            return 1;                                                               \
        }                                                                           \
    } while (0)

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The card's command counter, or -1 when there is none. */
static long card_commands(void) {
    const char *path = getenv("BENCH_CARD_STATS");
    if (!path || !*path) return -1;
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = 0;
    const char *key = strstr(text, "\"commands\"");
    if (!key) return -1;
    const char *colon = strchr(key, ':');
    return colon ? strtol(colon + 1, NULL, 10) : -1;
}

static CK_FUNCTION_LIST_PTR load(const char *path) {
    void *module = dlopen(path, RTLD_NOW);
    if (!module) { printf("error dlopen %s\n", dlerror()); return NULL; }
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR p11 = NULL;
    if (!get || get(&p11) != CKR_OK) { printf("error C_GetFunctionList\n"); return NULL; }
    return p11;
}

static int first_token(CK_FUNCTION_LIST_PTR p11, CK_SLOT_ID *slot) {
    CK_SLOT_ID slots[8];
    CK_ULONG count = 8;
    CHECK(p11->C_GetSlotList(CK_TRUE, slots, &count));
    if (count == 0) { printf("error no token\n"); return 1; }
    *slot = slots[0];
    return 0;
}

static int list(const char *path) {
    long before = card_commands();
    double start = now_ms();
    CK_FUNCTION_LIST_PTR p11 = load(path);
    if (!p11) return 1;
    CHECK(p11->C_Initialize(NULL));
    CK_SLOT_ID slot;
    if (first_token(p11, &slot)) return 1;
    CK_TOKEN_INFO info;
    CHECK(p11->C_GetTokenInfo(slot, &info));
    CK_SESSION_HANDLE session;
    CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session));
    CK_OBJECT_CLASS cert_class = CKO_CERTIFICATE;
    CK_ATTRIBUTE template[] = {{CKA_CLASS, &cert_class, sizeof cert_class}};
    CK_OBJECT_HANDLE certs[8];
    CK_ULONG found = 0;
    CHECK(p11->C_FindObjectsInit(session, template, 1));
    CHECK(p11->C_FindObjects(session, certs, 8, &found));
    CHECK(p11->C_FindObjectsFinal(session));
    unsigned long total = 0;
    for (CK_ULONG i = 0; i < found; i++) {
        CK_ATTRIBUTE value = {CKA_VALUE, NULL, 0};
        CHECK(p11->C_GetAttributeValue(session, certs[i], &value, 1));
        value.pValue = malloc(value.ulValueLen);
        if (!value.pValue) return 1;
        CHECK(p11->C_GetAttributeValue(session, certs[i], &value, 1));
        total += value.ulValueLen;
        free(value.pValue);
    }
    CHECK(p11->C_CloseSession(session));
    CHECK(p11->C_Finalize(NULL));
    double elapsed = now_ms() - start;
    long after = card_commands();
    printf("list %.1f certs %lu bytes %lu apdus %ld\n", elapsed, (unsigned long)found, total,
           before < 0 || after < 0 ? -1 : after - before);
    return 0;
}

static int hex_to_bytes(const char *hex, size_t length, unsigned char *out, size_t max) {
    size_t n = length / 2;
    if (n > max) return -1;
    for (size_t i = 0; i < n; i++)
        if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1) return -1;
    return (int)n;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The input and mechanism of MECH (see the header). */
static int mechanism_for(const char *name, CK_MECHANISM *mechanism, CK_RSA_PKCS_PSS_PARAMS *pss,
                         unsigned char *data, CK_ULONG *length) {
    static const unsigned char prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                             0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    memset(mechanism, 0, sizeof *mechanism);
    if (strcmp(name, "rsa-pkcs") == 0) {
        memcpy(data, prefix, sizeof prefix);
        memset(data + sizeof prefix, 0xab, 32);
        *length = sizeof prefix + 32;
        mechanism->mechanism = CKM_RSA_PKCS;
    } else if (strcmp(name, "sha256-rsa-pkcs") == 0) {
        memset(data, 'm', 100);
        *length = 100;
        mechanism->mechanism = CKM_SHA256_RSA_PKCS;
    } else if (strcmp(name, "rsa-pkcs-pss") == 0) {
        memset(data, 0xcd, 32);
        *length = 32;
        pss->hashAlg = CKM_SHA256;
        pss->mgf = CKG_MGF1_SHA256;
        pss->sLen = 32;
        mechanism->mechanism = CKM_RSA_PKCS_PSS;
        mechanism->pParameter = pss;
        mechanism->ulParameterLen = sizeof *pss;
    } else {
        return 1;
    }
    return 0;
}

/* N signatures with the key of SPEC (NAME:KEY_ID_HEX:MECH) in `session`; prints their median. */
static int sign_spec(CK_FUNCTION_LIST_PTR p11, CK_SESSION_HANDLE session, const char *spec, int count) {
    const char *first = strchr(spec, ':');
    const char *second = first ? strchr(first + 1, ':') : NULL;
    if (!second) { printf("error spec %s\n", spec); return 1; }
    unsigned char id[64];
    int id_length = hex_to_bytes(first + 1, (size_t)(second - first - 1), id, sizeof id);
    CK_MECHANISM mechanism;
    CK_RSA_PKCS_PSS_PARAMS pss;
    unsigned char data[128];
    CK_ULONG data_length;
    if (id_length < 0 || mechanism_for(second + 1, &mechanism, &pss, data, &data_length)) {
        printf("error spec %s\n", spec);
        return 1;
    }
    CK_OBJECT_CLASS key_class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE template[] = {{CKA_CLASS, &key_class, sizeof key_class}, {CKA_ID, id, (CK_ULONG)id_length}};
    CK_OBJECT_HANDLE key;
    CK_ULONG found = 0;
    CHECK(p11->C_FindObjectsInit(session, template, 2));
    CHECK(p11->C_FindObjects(session, &key, 1, &found));
    CHECK(p11->C_FindObjectsFinal(session));
    if (found != 1) { printf("error key %.*s not found\n", (int)(first - spec), spec); return 1; }
    double times[256];
    if (count > 256) count = 256;
    long before = card_commands();
    for (int i = 0; i < count; i++) {
        /* Exactly the modulus length: Cryptolib 5.2.2 turns a larger buffer into the Le of its CPS4 PSO
         * DECIPHER and refuses it ("Invalid Case 4 short APDU ... le=512", CKR_ARGUMENTS_BAD). */
        unsigned char signature[256];
        CK_ULONG signature_length = sizeof signature;
        double start = now_ms();
        CHECK(p11->C_SignInit(session, &mechanism, key));
        CHECK(p11->C_Sign(session, data, data_length, signature, &signature_length));
        times[i] = now_ms() - start;
    }
    long after = card_commands();
    qsort(times, (size_t)count, sizeof times[0], compare);
    printf("sign %.*s median %.1f min %.1f max %.1f apdus %.1f\n", (int)(first - spec), spec, times[count / 2],
           times[0], times[count - 1], before < 0 || after < 0 ? -1.0 : (double)(after - before) / count);
    return 0;
}

static int sign(const char *path, const char *pin, int count, int specs, char **spec) {
    CK_FUNCTION_LIST_PTR p11 = load(path);
    if (!p11) return 1;
    CHECK(p11->C_Initialize(NULL));
    CK_SLOT_ID slot;
    if (first_token(p11, &slot)) return 1;
    CK_SESSION_HANDLE session;
    CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session));
    long before = card_commands();
    double start = now_ms();
    CHECK(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    double elapsed = now_ms() - start;
    long after = card_commands();
    printf("login %.1f apdus %ld\n", elapsed, before < 0 || after < 0 ? -1 : after - before);
    for (int i = 0; i < specs; i++)
        if (sign_spec(p11, session, spec[i], count)) return 1;
    /* A later login of the same card: what was read at the first one (data objects) is known by now. */
    CHECK(p11->C_Logout(session));
    before = card_commands();
    start = now_ms();
    CHECK(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    elapsed = now_ms() - start;
    after = card_commands();
    printf("relogin %.1f apdus %ld\n", elapsed, before < 0 || after < 0 ? -1 : after - before);
    p11->C_Logout(session);
    p11->C_Finalize(NULL);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "list") == 0) return list(argv[2]);
    if (argc >= 6 && strcmp(argv[1], "sign") == 0) return sign(argv[2], argv[3], atoi(argv[4]), argc - 5, argv + 5);
    fprintf(stderr, "usage: p11-timing list MODULE | sign MODULE PIN N NAME:KEY_ID_HEX:MECH...\n");
    return 2;
}

/* A PKCS#11 consumer that controls its output buffers exactly, which PyKCS11 and pkcs11-tool do not:
 * it logs in, asks C_Sign for the signature length, then signs into a buffer one byte too small, then
 * into one of the announced length, and prints one line per step:
 *   length <n>
 *   small <rv in hex> <length returned>
 *   sign <rv in hex> <length returned> <bytes written past the announced length>
 * Usage: pkcs11-sign-buffers MODULE PIN KEY_ID_HEX */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <p11-kit/pkcs11.h>

#define CHECK(call)                                                          \
    do {                                                                     \
        CK_RV rv_ = (call);                                                  \
        if (rv_ != CKR_OK) {                                                 \
            printf("error %s 0x%lx\n", #call, (unsigned long)rv_);           \
            return 1;                                                        \
        }                                                                    \
    } while (0)

static int hex_to_bytes(const char *hex, unsigned char *out, size_t max) {
    size_t n = strlen(hex) / 2;
    if (n > max) return -1;
    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
    return (int)n;
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    void *module = dlopen(argv[1], RTLD_NOW);
    if (!module) return 2;
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR p11;
    CHECK(get(&p11));
    CHECK(p11->C_Initialize(NULL));
    CK_SLOT_ID slots[8];
    CK_ULONG count = 8;
    CHECK(p11->C_GetSlotList(CK_TRUE, slots, &count));
    if (count == 0) { printf("error no token\n"); return 1; }
    CK_SESSION_HANDLE session;
    CHECK(p11->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &session));
    CHECK(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)argv[2], strlen(argv[2])));

    unsigned char id[64];
    int id_length = hex_to_bytes(argv[3], id, sizeof id);
    CK_OBJECT_CLASS key_class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE template[] = {{CKA_CLASS, &key_class, sizeof key_class}, {CKA_ID, id, (CK_ULONG)id_length}};
    CK_OBJECT_HANDLE key;
    CK_ULONG found = 0;
    CHECK(p11->C_FindObjectsInit(session, template, 2));
    CHECK(p11->C_FindObjects(session, &key, 1, &found));
    CHECK(p11->C_FindObjectsFinal(session));
    if (found != 1) { printf("error key not found\n"); return 1; }

    /* A SHA-256 DigestInfo, as TLS client authentication signs it. */
    unsigned char digest_info[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
                                     0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    memset(digest_info + 19, 0xab, 32);
    CK_MECHANISM mechanism = {CKM_RSA_PKCS, NULL, 0};
    CHECK(p11->C_SignInit(session, &mechanism, key));
    CK_ULONG length = 0;
    CHECK(p11->C_Sign(session, digest_info, sizeof digest_info, NULL, &length));
    printf("length %lu\n", (unsigned long)length);

    /* One byte too small: the call must say so and keep the operation. */
    CK_ULONG small = length - 1;
    unsigned char *buffer = malloc(length + 64);
    memset(buffer, 0x5a, length + 64);
    CK_RV rv = p11->C_Sign(session, digest_info, sizeof digest_info, buffer, &small);
    printf("small 0x%lx %lu\n", (unsigned long)rv, (unsigned long)small);

    /* The announced length, with a guard zone after it that must stay untouched. */
    CK_ULONG exact = length;
    if (rv == CKR_BUFFER_TOO_SMALL) {
        rv = p11->C_Sign(session, digest_info, sizeof digest_info, buffer, &exact);
    }
    int overrun = 0;
    for (int i = 0; i < 64; i++) overrun += buffer[length + i] != 0x5a;
    printf("sign 0x%lx %lu %d\n", (unsigned long)rv, (unsigned long)exact, overrun);
    p11->C_Finalize(NULL);
    return 0;
}

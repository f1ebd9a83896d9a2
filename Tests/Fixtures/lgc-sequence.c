/* What practice software (LGC) does with Cryptolib CPS, as one C program: it dlopens the module by the
 * vendor's path, reads the card's identity and certificates without the PIN, logs in, reads the first
 * practice situation and the billing situation, and signs with the signature key. One line per step:
 *   <step> <rv in hex> [<value length>]
 * and the signature in OUT (for OpenSSL). Usage: lgc-sequence MODULE PIN MESSAGE-FILE OUT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR p;
static CK_SESSION_HANDLE session;

static CK_RV find(CK_OBJECT_CLASS class, const char *label, CK_OBJECT_HANDLE *object) {
    CK_ATTRIBUTE template[2] = {{CKA_CLASS, &class, sizeof class}, {CKA_LABEL, (void *)label, strlen(label)}};
    CK_ULONG found = 0;
    CK_RV rv = p->C_FindObjectsInit(session, template, label ? 2 : 1);
    if (rv == CKR_OK) rv = p->C_FindObjects(session, object, 1, &found);
    p->C_FindObjectsFinal(session);
    return rv == CKR_OK && found != 1 ? CKR_GENERAL_ERROR : rv;
}

/* Finds the object and reads its CKA_VALUE, printing `name rv length`. */
static void read_value(const char *name, CK_OBJECT_CLASS class, const char *label) {
    CK_OBJECT_HANDLE object;
    CK_RV rv = find(class, label, &object);
    CK_ATTRIBUTE value = {CKA_VALUE, NULL, 0};
    if (rv == CKR_OK) rv = p->C_GetAttributeValue(session, object, &value, 1);
    printf("%s 0x%lx %lu\n", name, (unsigned long)rv, rv == CKR_OK ? (unsigned long)value.ulValueLen : 0UL);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: lgc-sequence MODULE PIN MESSAGE-FILE OUT\n"); return 2; }
    void *module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get = module ? (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList") : NULL;
    if (get == NULL || get(&p) != CKR_OK) { fprintf(stderr, "cannot load %s\n", argv[1]); return 2; }
    printf("initialize 0x%lx\n", (unsigned long)p->C_Initialize(NULL));
    CK_SLOT_ID slot;
    CK_ULONG count = 1;
    printf("slots 0x%lx %lu\n", (unsigned long)p->C_GetSlotList(CK_TRUE, &slot, &count), (unsigned long)count);
    printf("session 0x%lx\n", (unsigned long)p->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session));
    read_value("id-card", CKO_DATA, "CPS_ID_CARD");
    read_value("auth-certificate", CKO_CERTIFICATE, "Certificat d'Authentification CPS");
    read_value("sig-certificate", CKO_CERTIFICATE, "Certificat de Signature CPS");
    printf("login 0x%lx\n", (unsigned long)p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)argv[2], strlen(argv[2])));
    read_value("activity-01", CKO_DATA, "CPS_ACTIVITY_01_PS");
    read_value("billing", CKO_DATA, "CPS_SIT_FACT");

    FILE *in = fopen(argv[3], "rb");
    unsigned char message[4096];
    size_t length = in ? fread(message, 1, sizeof message, in) : 0;
    if (in) fclose(in);
    CK_OBJECT_HANDLE key;
    CK_RV rv = find(CKO_PRIVATE_KEY, "CPS_PRIV_SIG", &key);
    CK_MECHANISM mechanism = {CKM_SHA256_RSA_PKCS, NULL, 0};
    unsigned char signature[256];
    CK_ULONG signature_length = sizeof signature;
    if (rv == CKR_OK) rv = p->C_SignInit(session, &mechanism, key);
    if (rv == CKR_OK) rv = p->C_Sign(session, message, length, signature, &signature_length);
    printf("sign 0x%lx %lu\n", (unsigned long)rv, rv == CKR_OK ? (unsigned long)signature_length : 0UL);
    FILE *out = fopen(argv[4], "wb");
    if (out && rv == CKR_OK) fwrite(signature, 1, signature_length, out);
    if (out) fclose(out);
    printf("logout 0x%lx\n", (unsigned long)p->C_Logout(session));
    printf("finalize 0x%lx\n", (unsigned long)p->C_Finalize(NULL));
    return 0;
}

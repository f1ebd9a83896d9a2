/* PKCS#11 numbers as their names for the differential client's output, and SHA-256 of long values. */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include "p11-dump.h"

#define NAME(x) {x, #x}
struct name { unsigned long value; const char *name; };

static const char *lookup(const struct name *names, size_t count, unsigned long value, const char *fallback) {
    for (size_t i = 0; i < count; i++)
        if (names[i].value == value) return names[i].name;
    static char unknown[4][32];
    static int next;
    char *text = unknown[next++ % 4];
    snprintf(text, 32, "%s0x%lx", fallback, value);
    return text;
}

const char *rv_name(CK_RV rv) {
    static const struct name names[] = {
        NAME(CKR_OK), NAME(CKR_HOST_MEMORY), NAME(CKR_SLOT_ID_INVALID), NAME(CKR_GENERAL_ERROR),
        NAME(CKR_FUNCTION_FAILED), NAME(CKR_ARGUMENTS_BAD), NAME(CKR_NO_EVENT), NAME(CKR_CANT_LOCK),
        NAME(CKR_ATTRIBUTE_READ_ONLY), NAME(CKR_ATTRIBUTE_SENSITIVE), NAME(CKR_ATTRIBUTE_TYPE_INVALID),
        NAME(CKR_ATTRIBUTE_VALUE_INVALID), NAME(CKR_ACTION_PROHIBITED), NAME(CKR_DATA_INVALID),
        NAME(CKR_DATA_LEN_RANGE), NAME(CKR_DEVICE_ERROR), NAME(CKR_DEVICE_MEMORY), NAME(CKR_DEVICE_REMOVED),
        NAME(CKR_ENCRYPTED_DATA_INVALID), NAME(CKR_ENCRYPTED_DATA_LEN_RANGE), NAME(CKR_FUNCTION_CANCELED),
        NAME(CKR_FUNCTION_NOT_PARALLEL), NAME(CKR_FUNCTION_NOT_SUPPORTED), NAME(CKR_KEY_HANDLE_INVALID),
        NAME(CKR_KEY_SIZE_RANGE), NAME(CKR_KEY_TYPE_INCONSISTENT), NAME(CKR_KEY_FUNCTION_NOT_PERMITTED),
        NAME(CKR_MECHANISM_INVALID), NAME(CKR_MECHANISM_PARAM_INVALID), NAME(CKR_OBJECT_HANDLE_INVALID),
        NAME(CKR_OPERATION_ACTIVE), NAME(CKR_OPERATION_NOT_INITIALIZED), NAME(CKR_PIN_INCORRECT),
        NAME(CKR_PIN_INVALID), NAME(CKR_PIN_LEN_RANGE), NAME(CKR_PIN_EXPIRED), NAME(CKR_PIN_LOCKED),
        NAME(CKR_SESSION_CLOSED), NAME(CKR_SESSION_COUNT), NAME(CKR_SESSION_HANDLE_INVALID),
        NAME(CKR_SESSION_PARALLEL_NOT_SUPPORTED), NAME(CKR_SESSION_READ_ONLY), NAME(CKR_SESSION_EXISTS),
        NAME(CKR_SESSION_READ_ONLY_EXISTS), NAME(CKR_SESSION_READ_WRITE_SO_EXISTS), NAME(CKR_SIGNATURE_INVALID),
        NAME(CKR_SIGNATURE_LEN_RANGE), NAME(CKR_TEMPLATE_INCOMPLETE), NAME(CKR_TEMPLATE_INCONSISTENT),
        NAME(CKR_TOKEN_NOT_PRESENT), NAME(CKR_TOKEN_NOT_RECOGNIZED), NAME(CKR_TOKEN_WRITE_PROTECTED),
        NAME(CKR_USER_ALREADY_LOGGED_IN), NAME(CKR_USER_NOT_LOGGED_IN), NAME(CKR_USER_PIN_NOT_INITIALIZED),
        NAME(CKR_USER_TYPE_INVALID), NAME(CKR_USER_ANOTHER_ALREADY_LOGGED_IN), NAME(CKR_USER_TOO_MANY_TYPES),
        NAME(CKR_BUFFER_TOO_SMALL), NAME(CKR_CRYPTOKI_NOT_INITIALIZED), NAME(CKR_CRYPTOKI_ALREADY_INITIALIZED),
        NAME(CKR_RANDOM_SEED_NOT_SUPPORTED), NAME(CKR_RANDOM_NO_RNG),
    };
    return lookup(names, sizeof names / sizeof names[0], rv, "CKR_");
}

const char *class_name(CK_OBJECT_CLASS class) {
    static const struct name names[] = {
        NAME(CKO_DATA), NAME(CKO_CERTIFICATE), NAME(CKO_PUBLIC_KEY), NAME(CKO_PRIVATE_KEY), NAME(CKO_SECRET_KEY),
    };
    return lookup(names, sizeof names / sizeof names[0], class, "CKO_");
}

const char *mechanism_name(CK_MECHANISM_TYPE mechanism) {
    static const struct name names[] = {
        NAME(CKM_RSA_PKCS), NAME(CKM_RSA_X_509), NAME(CKM_SHA1_RSA_PKCS), NAME(CKM_SHA256_RSA_PKCS),
        NAME(CKM_SHA384_RSA_PKCS), NAME(CKM_SHA512_RSA_PKCS), NAME(CKM_RSA_PKCS_PSS), NAME(CKM_SHA1_RSA_PKCS_PSS),
        NAME(CKM_SHA256_RSA_PKCS_PSS), NAME(CKM_SHA384_RSA_PKCS_PSS), NAME(CKM_SHA512_RSA_PKCS_PSS),
        NAME(CKM_RSA_PKCS_OAEP), NAME(CKM_SHA_1), NAME(CKM_SHA256), NAME(CKM_SHA384), NAME(CKM_SHA512), NAME(CKM_MD5),
    };
    return lookup(names, sizeof names / sizeof names[0], mechanism, "CKM_");
}

/* The set bits by name, `|`-joined in bit order; bits without a name as hex. */
static const char *flag_names(const struct name *names, size_t count, CK_FLAGS flags, char *text, size_t size) {
    text[0] = 0;
    for (unsigned bit = 0; bit < 8 * sizeof flags; bit++) {
        CK_FLAGS one = (CK_FLAGS)1 << bit;
        if (!(flags & one)) continue;
        if (text[0]) strncat(text, "|", size - strlen(text) - 1);
        strncat(text, lookup(names, count, one, "0x"), size - strlen(text) - 1);
    }
    if (!text[0]) snprintf(text, size, "0");
    return text;
}

const char *slot_flags(CK_FLAGS flags) {
    static const struct name names[] = {NAME(CKF_TOKEN_PRESENT), NAME(CKF_REMOVABLE_DEVICE), NAME(CKF_HW_SLOT)};
    static char text[256];
    return flag_names(names, sizeof names / sizeof names[0], flags, text, sizeof text);
}

const char *token_flags(CK_FLAGS flags) {
    static const struct name names[] = {
        NAME(CKF_RNG), NAME(CKF_WRITE_PROTECTED), NAME(CKF_LOGIN_REQUIRED), NAME(CKF_USER_PIN_INITIALIZED),
        NAME(CKF_RESTORE_KEY_NOT_NEEDED), NAME(CKF_CLOCK_ON_TOKEN), NAME(CKF_PROTECTED_AUTHENTICATION_PATH),
        NAME(CKF_DUAL_CRYPTO_OPERATIONS), NAME(CKF_TOKEN_INITIALIZED), NAME(CKF_SECONDARY_AUTHENTICATION),
        NAME(CKF_USER_PIN_COUNT_LOW), NAME(CKF_USER_PIN_FINAL_TRY), NAME(CKF_USER_PIN_LOCKED),
        NAME(CKF_USER_PIN_TO_BE_CHANGED), NAME(CKF_SO_PIN_COUNT_LOW), NAME(CKF_SO_PIN_FINAL_TRY),
        NAME(CKF_SO_PIN_LOCKED), NAME(CKF_SO_PIN_TO_BE_CHANGED),
    };
    static char text[512];
    return flag_names(names, sizeof names / sizeof names[0], flags, text, sizeof text);
}

const char *mechanism_flags(CK_FLAGS flags) {
    static const struct name names[] = {
        NAME(CKF_HW), NAME(CKF_ENCRYPT), NAME(CKF_DECRYPT), NAME(CKF_DIGEST), NAME(CKF_SIGN), NAME(CKF_SIGN_RECOVER),
        NAME(CKF_VERIFY), NAME(CKF_VERIFY_RECOVER), NAME(CKF_GENERATE), NAME(CKF_GENERATE_KEY_PAIR), NAME(CKF_WRAP),
        NAME(CKF_UNWRAP), NAME(CKF_DERIVE),
    };
    static char text[256];
    return flag_names(names, sizeof names / sizeof names[0], flags, text, sizeof text);
}

void print_sha256(const unsigned char *bytes, CK_ULONG length) {
    unsigned char digest[32];
    unsigned int size = 0;
    EVP_Digest(bytes, length, digest, &size, EVP_sha256(), NULL);
    for (unsigned i = 0; i < size; i++) printf("%02x", digest[i]);
}

package io.qsync.lowprec.layers;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/** Copies the instance fields of DL4J layer configuration objects between built-in and switchable classes. */
final class ConfigCopy {
    private ConfigCopy() {}

    /**
     * Copies every non-static field declared in {@code from} and its superclasses.
     *
     * @param src  source (an instance of {@code from})
     * @param dst  destination (an instance of {@code from})
     * @param from the most derived class whose fields are copied
     * @param <T>  destination type
     * @return {@code dst}
     */
    static <T> T copy(Object src, T dst, Class<?> from) {
        for (Class<?> c = from; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    f.set(dst, f.get(src));
                } catch (IllegalAccessException | RuntimeException e) {
                    throw new IllegalStateException(
                            "Cannot copy layer configuration field " + c.getName() + "." + f.getName(), e);
                }
            }
        }
        return dst;
    }
}

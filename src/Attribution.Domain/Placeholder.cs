namespace Attribution.Domain;
public static class Placeholder { }

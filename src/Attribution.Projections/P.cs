namespace Attribution.Projections;
public static class Placeholder2 { }

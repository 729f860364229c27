using Attribution.Domain.MultiTouch;
using static Attribution.Tests.Domain.MultiTouch.MultiTouchScenarios;

namespace Attribution.Tests.Domain.MultiTouch;

public class TouchpointWindowTests
{
    [Fact]
    public void Given_clicks_around_the_window_when_touchpoints_are_selected_then_only_clicks_within_the_lookback_and_not_after_count()
    {
        var attributed = Click("A", 1);
        var exactlySevenDays = Click("B", 7);
        var tooOld = Click("C", 7.0001);
        var afterConversion = Click("D", -0.5);
        var atConversion = Click("E", 0);

        var touchpoints = MultiTouchAttribution.Touchpoints(ConversionAfter(attributed), [tooOld, exactlySevenDays, afterConversion, atConversion], TimeSpan.FromDays(7));

        Assert.Equal([exactlySevenDays, attributed, atConversion], touchpoints);
    }

    [Fact]
    public void Given_the_attributed_click_outside_a_shorter_lookback_when_selected_then_it_is_still_a_touchpoint()
    {
        var attributed = Click("A", 5);

        var touchpoints = MultiTouchAttribution.Touchpoints(ConversionAfter(attributed), [Click("B", 1)], TimeSpan.FromDays(2));

        Assert.Contains(attributed, touchpoints);
        Assert.Equal(2, touchpoints.Count);
    }

    [Fact]
    public void Given_the_same_click_delivered_twice_when_selected_then_it_counts_once()
    {
        var attributed = Click("A", 1);

        var touchpoints = MultiTouchAttribution.Touchpoints(ConversionAfter(attributed), [attributed, attributed with { }, Click("B", 2)], TimeSpan.FromDays(7));

        Assert.Equal(2, touchpoints.Count);
    }

    [Fact]
    public void Given_clicks_at_the_same_instant_when_ordered_then_campaign_id_then_impression_id_break_the_tie()
    {
        var at = T - TimeSpan.FromHours(1);
        Touchpoint[] clicks = [new("B", at, "i1"), new("A", at, "i2"), new("A", at, "i1")];

        var touchpoints = MultiTouchAttribution.Touchpoints(ConversionAfter(clicks[0]), clicks.Reverse(), TimeSpan.FromDays(7));

        Assert.Equal([new("A", at, "i1"), new("A", at, "i2"), new Touchpoint("B", at, "i1")], touchpoints);
    }

    [Fact]
    public void Given_an_attributed_click_after_the_conversion_when_attributed_then_it_is_refused()
    {
        Assert.Throws<ArgumentException>(() => MultiTouchAttribution.Attribute(ConversionAfter(Click("A", -1)), [], new LinearModel()));
    }
}

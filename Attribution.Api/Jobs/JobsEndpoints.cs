using Attribution.Api.Infrastructure;
using Attribution.Projections.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Jobs;

/// <summary>The maintenance jobs (the Hangfire role): schedules, run history, run now, pause and resume, and the /jobs page.</summary>
public static class JobsEndpoints
{
    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/jobs").WithTags("Jobs");
        group.MapGet("", List).WithName("Jobs")
            .WithSummary("Every job with its schedule, next run, paused or not, and its last runs (start, duration, outcome, rows/files touched, error, progress)");
        group.MapPost("/{job}/trigger", Trigger).WithName("TriggerJob").RequireAdminKey()
            .WithSummary("Runs a job now (after a run in progress, if any) (needs X-Admin-Key)");
        group.MapPost("/{job}/pause", Pause).WithName("PauseJob").RequireAdminKey()
            .WithSummary("Stops a job's scheduled runs until resumed; survives restarts (needs X-Admin-Key)");
        group.MapPost("/{job}/resume", Resume).WithName("ResumeJob").RequireAdminKey()
            .WithSummary("Resumes a paused job's schedule (needs X-Admin-Key)");
        app.MapGet("/jobs", Page).ExcludeFromDescription();
        return app;
    }

    public sealed record JobCommandResponse(string Job, string Action, string Status);

    private static async Task<Ok<JobsOverview>> List(int? runs, MaintenanceJobs jobs, CancellationToken ct) =>
        TypedResults.Ok(await jobs.ListAsync(runs ?? 10, ct));

    private static async Task<Results<Accepted<JobCommandResponse>, ProblemHttpResult>> Trigger(string job, MaintenanceJobs jobs, CancellationToken ct) =>
        Answer(job, "trigger", await jobs.TriggerAsync(job, ct), "queued");

    private static async Task<Results<Accepted<JobCommandResponse>, ProblemHttpResult>> Pause(string job, MaintenanceJobs jobs, CancellationToken ct) =>
        Answer(job, "pause", await jobs.PauseAsync(job, ct), "paused");

    private static async Task<Results<Accepted<JobCommandResponse>, ProblemHttpResult>> Resume(string job, MaintenanceJobs jobs, CancellationToken ct) =>
        Answer(job, "resume", await jobs.ResumeAsync(job, ct), "resumed");

    private static Results<Accepted<JobCommandResponse>, ProblemHttpResult> Answer(string job, string action, JobCommandResult result, string status) =>
        result switch
        {
            JobCommandResult.Done => TypedResults.Accepted("/api/v1/jobs", new JobCommandResponse(job, action, status)),
            JobCommandResult.UnknownJob => Problems.NotFound($"No job is named '{job}'."),
            _ => TypedResults.Problem(new ProblemDetails
            {
                Status = 409, Title = "The scheduler is disabled",
                Detail = "Jobs:Enabled is false on this instance; run the job from an instance with the scheduler on.",
                Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10",
            }),
        };

    private static readonly Lazy<string> PageHtml = new(() =>
    {
        using var stream = typeof(JobsEndpoints).Assembly.GetManifestResourceStream("Attribution.Api.JobsPage.html")
                           ?? throw new InvalidOperationException("The jobs page (wwwroot/jobs/index.html) is not embedded in this build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The dashboard: a static page (wwwroot/jobs/index.html, no build step) that reads the JSON above.</summary>
    private static ContentHttpResult Page() => TypedResults.Content(PageHtml.Value, "text/html; charset=utf-8");
}

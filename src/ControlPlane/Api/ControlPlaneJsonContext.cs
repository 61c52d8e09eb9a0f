using System.Text.Json.Serialization;
using StreamVerse.ControlPlane.Accounts;
using StreamVerse.ControlPlane.Auth;
using StreamVerse.ControlPlane.Categories;
using StreamVerse.ControlPlane.Chat;
using StreamVerse.ControlPlane.Channels;
using StreamVerse.ControlPlane.Comments;
using StreamVerse.ControlPlane.Jobs;
using StreamVerse.ControlPlane.Mail;
using StreamVerse.ControlPlane.Playback;
using StreamVerse.ControlPlane.Reactions;
using StreamVerse.ControlPlane.StreamKeys;
using StreamVerse.ControlPlane.Subscriptions;
using StreamVerse.ControlPlane.Tags;
using StreamVerse.ControlPlane.Uploads;
using StreamVerse.ControlPlane.Videos;

namespace StreamVerse.ControlPlane.Api;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(RefreshRequest))]
[JsonSerializable(typeof(TokenPair))]
[JsonSerializable(typeof(ProfileResponse))]
[JsonSerializable(typeof(PublicProfile))]
[JsonSerializable(typeof(UpdateProfileRequest))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(DeleteAccountRequest))]
[JsonSerializable(typeof(AvatarResponse))]
[JsonSerializable(typeof(RoleRequest))]
[JsonSerializable(typeof(PremiumRequest))]
[JsonSerializable(typeof(Page<SessionInfo>))]
[JsonSerializable(typeof(CategoryRequest))]
[JsonSerializable(typeof(Category))]
[JsonSerializable(typeof(Page<Category>))]
[JsonSerializable(typeof(ChannelRequest))]
[JsonSerializable(typeof(Channel))]
[JsonSerializable(typeof(Page<Channel>))]
[JsonSerializable(typeof(CreateVideoRequest))]
[JsonSerializable(typeof(UpdateVideoRequest))]
[JsonSerializable(typeof(Video))]
[JsonSerializable(typeof(List<AudioTrack>))]
[JsonSerializable(typeof(VideoPage))]
[JsonSerializable(typeof(StreamVerse.ControlPlane.Captions.CaptionInfo))]
[JsonSerializable(typeof(List<TagInfo>))]
[JsonSerializable(typeof(Page<StreamKeyInfo>))]
[JsonSerializable(typeof(EdgeInvalidationPage))]
[JsonSerializable(typeof(StreamKeyCreated))]
[JsonSerializable(typeof(PlaybackTokenRequest))]
[JsonSerializable(typeof(SourceAccepted))]
[JsonSerializable(typeof(PlaybackTokenResponse))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(VideoPublished))]
[JsonSerializable(typeof(ChannelWentLive))]
[JsonSerializable(typeof(SubscribeRequest))]
[JsonSerializable(typeof(SubscriptionResponse))]
[JsonSerializable(typeof(Page<SubscriptionResponse>))]
[JsonSerializable(typeof(Page<SubscriberResponse>))]
[JsonSerializable(typeof(ChannelSubscribed))]
[JsonSerializable(typeof(CommentPosted))]
[JsonSerializable(typeof(ReactionRequest))]
[JsonSerializable(typeof(ReactionResponse))]
[JsonSerializable(typeof(CreateCommentRequest))]
[JsonSerializable(typeof(UpdateCommentRequest))]
[JsonSerializable(typeof(CommentResponse))]
[JsonSerializable(typeof(Page<CommentResponse>))]
[JsonSerializable(typeof(CommentPolicyRequest))]
[JsonSerializable(typeof(CommentPolicyResponse))]
[JsonSerializable(typeof(MailPayload))]
[JsonSerializable(typeof(VerifyEmailRequest))]
[JsonSerializable(typeof(PasswordResetRequest))]
[JsonSerializable(typeof(PasswordResetConfirmRequest))]
[JsonSerializable(typeof(MailAccepted))]
[JsonSerializable(typeof(ThumbnailFrameRequest))]
[JsonSerializable(typeof(ScheduleRequest))]
[JsonSerializable(typeof(CreateStreamKeyRequest))]
[JsonSerializable(typeof(ChatMessageResponse))]
[JsonSerializable(typeof(Page<ChatMessageResponse>))]
[JsonSerializable(typeof(ChatMessageDeleted))]
[JsonSerializable(typeof(ChatRules))]
[JsonSerializable(typeof(ChatJoined))]
[JsonSerializable(typeof(ChatSettingsResponse))]
[JsonSerializable(typeof(ChatSettingsRequest))]
[JsonSerializable(typeof(ChatRestrictionRequest))]
[JsonSerializable(typeof(ChatRestrictionResponse))]
[JsonSerializable(typeof(Page<ChatRestrictionResponse>))]
[JsonSerializable(typeof(ChatModeratorResponse))]
[JsonSerializable(typeof(Page<ChatModeratorResponse>))]
internal sealed partial class ControlPlaneJsonContext : JsonSerializerContext;

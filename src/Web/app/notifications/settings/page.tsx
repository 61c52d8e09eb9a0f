import { NotificationSettings } from "./NotificationSettings";

export const metadata = { title: "Notification settings" };

export default function Page() {
  return <NotificationSettings />;
}
